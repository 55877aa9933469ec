"""Reports: workbooks, the public statistics page, the report gate."""
