"""The request-list workbook: schema, fast reading, building and safe writing.

Nothing is imported here on purpose: `jugendhaus-mail --help` must start without loading
openpyxl or python-calamine. Import from the submodules (`reader`, `build`, `store`, `locks`).
"""
