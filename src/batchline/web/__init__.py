"""web: the server-rendered user interface (templates + HTMX), one workspace per role."""
