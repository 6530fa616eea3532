"""Web pages of the parquet and phone stage, one module per audience (thin: forms in, parquet.services do the work).

Service errors are mapped once by `core.web.service_errors`; the views that can explain a ValidationError or a
Conflict next to a form catch them and render the page again with the posted form.
"""
