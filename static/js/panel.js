// The panel's own behaviour. No inline scripts: everything lives here.
"use strict";
