"""How much text a person or a client may put in one field (SPEC §5: validation errors name the field).

TextFields carry these as `max_length`, which Django's forms and DRF's serializers (and so the OpenAPI schema's
`maxLength`) enforce; the database columns stay `text`. Anything longer belongs in an attachment. Mail and
imports that store text themselves are not bound by these.
"""

TEXT_MAX_LENGTH = 32_000  # descriptions, comments, notes, plans
ARTICLE_BODY_MAX_LENGTH = 200_000  # a knowledge article is a document
