"""PostgreSQL backend that writes ``ON DELETE`` rules into foreign keys.

Django 5.2 emulates ``on_delete`` in Python and creates foreign keys without a database rule.
Here deletes cascade in the database, where row-level security cannot hide the rows a cascade
must reach (referential actions run as the table owner), and where the ERD's rules are visible to
any client. Fields declare the rule with ``core.fields.ForeignKey(..., db_on_delete=...)``.
"""

from django.db.backends.postgresql import base, schema

_DEFERRABLE = "%(deferrable)s"


def _with_rule(template: str, field) -> str:
    rule = getattr(field, "db_on_delete", None)
    if not rule:
        return template
    return template.replace(_DEFERRABLE, f" ON DELETE {rule}{_DEFERRABLE}", 1)


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _create_fk_sql(self, model, field, suffix):
        statement = super()._create_fk_sql(model, field, suffix)
        statement.template = _with_rule(statement.template, field)
        return statement

    def add_field(self, model, field):
        inline = self.sql_create_column_inline_fk
        self.sql_create_column_inline_fk = _with_rule(inline, field)
        try:
            super().add_field(model, field)
        finally:
            self.sql_create_column_inline_fk = inline


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
