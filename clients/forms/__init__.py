"""The forms of the Clients section, one module per concern: the Add client
page's sections (``sections``), its attribute fields (``attributes``) and the
page that holds them (``page``); the client list's parameters (``list``); the
client page's action forms (``actions``)."""
