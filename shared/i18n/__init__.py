"""The registrants' languages: gettext catalogs, the choice of a language, and time labels.

``locale/<lang>/LC_MESSAGES/kbs.po`` are the sources (edited by hand, checked by
``tests/unit/test_i18n_catalogs.py``); ``kbs.mo`` beside each is compiled from them by
``make translations`` (run by ``make`` and by ``cdk synth``), never committed.
"""
