"""The plan and its rules: the `lync-auth-plan/1` model, its reader and writer, the
findings engine, the client-impact matrix, and the certificate, publishing and DNS facts.

Pure Python: nothing here touches the database or a request, and nothing here imports
from the layers above (`proof`, `scripts`, `review`, `web`).
"""
