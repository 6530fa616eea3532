"""Uploaded PDFs must be inert documents: no script, no action that runs or opens something, no embedded file.

pypdf reads the document's structure and every object reachable from its trailer is walked (catalog, name
trees, pages, annotations, form fields, outlines…); the content streams themselves are never decoded. A file
pypdf cannot read, or that only a password opens, is refused too: what cannot be inspected is not stored.
"""

import io
import logging

from pypdf import PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from core.exceptions import UnsupportedFileType

logger = logging.getLogger(__name__)

CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)
# Objects walked at most: past this the document is refused rather than half inspected.
MAX_PDF_OBJECTS = 200_000

JAVASCRIPT = "du JavaScript"
EMBEDDED_FILE = "un fichier incorporé"
MULTIMEDIA = "un contenu multimédia ou 3D"
AUTOMATIC_ACTION = "une action automatique"

# Dictionary keys that only exist to carry active content.
ACTIVE_KEYS = {
    "/JS": JAVASCRIPT,
    "/JavaScript": JAVASCRIPT,
    "/OnInstantiate": JAVASCRIPT,
    "/AA": AUTOMATIC_ACTION,
    "/EmbeddedFiles": EMBEDDED_FILE,
    "/EF": EMBEDDED_FILE,
    "/RichMediaContent": MULTIMEDIA,
    "/RichMediaSettings": MULTIMEDIA,
    "/XFA": "un formulaire XFA",
}
# Action types (`/S`): a link to a page or to a web address stays allowed.
ACTIVE_ACTIONS = {
    "/JavaScript": JAVASCRIPT,
    "/Launch": "une commande de lancement de programme",
    "/GoToE": EMBEDDED_FILE,
    "/GoToR": "un lien vers un autre fichier",
    "/ImportData": "une importation de données",
    "/SubmitForm": "un envoi de formulaire",
    "/RichMediaExecute": MULTIMEDIA,
    "/Rendition": MULTIMEDIA,
}
# Object types (`/Type` or `/Subtype`).
ACTIVE_TYPES = {
    "/EmbeddedFile": EMBEDDED_FILE,
    "/FileAttachment": EMBEDDED_FILE,
    "/RichMedia": MULTIMEDIA,
    "/3D": MULTIMEDIA,
}

UNREADABLE = "PDF refusé : le fichier n'est pas un PDF lisible."
PROTECTED = "PDF refusé : il est protégé par un mot de passe. Joignez une version sans mot de passe."
TOO_COMPLEX = "PDF refusé : il est trop complexe pour être vérifié."


def check_pdf_inert(data: bytes) -> None:
    """Raise UnsupportedFileType (415, French message) unless `data` is a readable PDF without active content."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise UnsupportedFileType(PROTECTED)
        if not isinstance(_value(reader.trailer, "/Root"), DictionaryObject) or len(reader.pages) == 0:
            raise UnsupportedFileType(UNREADABLE)
        found = active_content(reader)
    except UnsupportedFileType:
        raise
    except Exception as exc:  # any failure to read the structure, RecursionError included
        logger.info("PDF illisible refusé (%s)", type(exc).__name__)
        raise UnsupportedFileType(UNREADABLE) from None
    if found:
        raise UnsupportedFileType(
            f"PDF refusé : il contient du contenu actif ({found}). "
            "Imprimez-le en PDF (« Imprimer » puis « Enregistrer au format PDF ») et joignez cette copie."
        )


def active_content(reader: PdfReader) -> str | None:
    """What the first active object found is (in French), or None; walked without recursion."""
    seen: set[tuple[int, int]] = set()
    pending = [reader.trailer]
    walked = 0
    while pending:
        obj = pending.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            found = _active_entry(obj)
            if found:
                return found
            children = dict.values(obj)  # unresolved: references are followed once, above
        elif isinstance(obj, ArrayObject):
            children = list.__iter__(obj)
        else:
            continue
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            raise UnsupportedFileType(TOO_COMPLEX)
        pending.extend(child for child in children if isinstance(child, CONTAINERS))
    return None


def _active_entry(obj: DictionaryObject) -> str | None:
    for key in dict.keys(obj):
        if key in ACTIVE_KEYS:
            return ACTIVE_KEYS[key]
    for key, table in (("/S", ACTIVE_ACTIONS), ("/Type", ACTIVE_TYPES), ("/Subtype", ACTIVE_TYPES)):
        value = _value(obj, key)
        if isinstance(value, str) and value in table:
            return table[value]
    opening = _value(obj, "/OpenAction")  # a page to show is fine; any other action when the document opens is not
    if isinstance(opening, DictionaryObject) and (action := _value(opening, "/S")) != "/GoTo":
        return (isinstance(action, str) and ACTIVE_ACTIONS.get(action)) or "une action à l'ouverture du document"
    return None


def _value(obj: DictionaryObject, key: str):
    value = dict.get(obj, key)
    return value.get_object() if isinstance(value, IndirectObject) else value
