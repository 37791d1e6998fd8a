"""The web adapter: a privacy center for data subjects and a console for operators and controllers."""
