"""Construction by change between surveys: mosaics per flight, compared with the previous survey.

`SurveyRecorder` (run.py) is the entry point: the construction detector feeds it frames and calls
`finish` at the end of a flight. The steps live in their own modules: keyframes, align + mosaic, grid
(the district lattice), archive (COG storage through the `SurveyStore` protocol), change + regions (+ decks:
scaffold decks seen only as their tube lattice) + classify + changes (comparison to alerts),
registered_relief (where registered structures lean), change_event (the alert of one change),
stored_outputs (crops and summary into the store), summary.
"""
