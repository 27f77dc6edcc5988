"""The HTTP adapter: a FastAPI app over the queue client (``redactor serve``)."""
