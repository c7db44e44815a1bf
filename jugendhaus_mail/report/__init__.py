"""The half-year report for the Qualitätsdialog (agreement, section 4): figures from the request
list and the sent-mail log, as an Excel workbook with native charts and a one-page HTML summary.

- `period`   which days a report covers, and the period it is compared with
- `figures`  pure: rows -> numbers (definitions in its docstring)
- `summary`  the key figures with their change, German labels, definitions
- `tables`   the tables behind the charts
- `content`  `make_report`: all of the above for one period, as a `Report`
- `xlsx`, `html`  the two renderings

Reading the live sources, writing the files and the Qualitätsdialog attachment is a job:
`jugendhaus_mail/jobs/report.py`.
"""
