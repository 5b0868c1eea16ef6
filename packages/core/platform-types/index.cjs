// @extapi/core/platform-types holds types only (index.d.cts on Node, web.d.cts elsewhere); this
// empty module lets a runtime import of the subpath resolve in every loader.
'use strict';
