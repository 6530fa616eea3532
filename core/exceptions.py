"""Errors raised by services; the API and the web layer map them to HTTP answers.

``NotFound`` → 404 (existence never disclosed), ``Forbidden`` → 403, ``Conflict`` → 409 (wrong
state), Django's ``ValidationError`` → 400 with French messages per field.
"""


class ServiceError(Exception):
    status_code = 400
    default_message = "Action impossible."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotFound(ServiceError):
    status_code = 404
    default_message = "Introuvable."


class Forbidden(ServiceError):
    status_code = 403
    default_message = "Vous n'avez pas le droit de faire cette action."


class Conflict(ServiceError):
    status_code = 409
    default_message = "Cette action n'est pas possible dans l'état actuel du dossier."


class PayloadTooLarge(ServiceError):
    status_code = 413
    default_message = "Fichier trop volumineux."


class UnsupportedFileType(ServiceError):
    status_code = 415
    default_message = "Type de fichier non accepté."
