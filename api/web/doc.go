// Package web is the node's browser front end: the seat-map page (search,
// live seat map, hold, pay, waiting room, my bookings), the cluster admin
// dashboard and the door page (check-in by camera or typed code, offline
// with locally verified codes and a queue synced later), as plain HTML,
// CSS and JavaScript modules embedded in the binary. There is no build
// step, so `make run` serves the pages offline and what the browser runs
// is exactly what is in assets/ (static/js/vendor holds third-party files
// unchanged, each with its licence).
//
// The pages talk only to the public HTTP and WebSocket API of API.md; this
// package has no server-side logic beyond serving its files. Handler is
// plugged into the API as api.Deps.Web, which mounts it at GET /, GET
// /admin/, GET /door/ and GET /static/. GET /events/{eventId} is the JSON
// API's event view; Front, wrapped around the API's handler by the node,
// hands that path to the pages only for requests whose Accept header prefers HTML
// (see PrefersHTML), so a shared link to an event opens its seat map while
// API clients get the JSON exactly as API.md says. /?event=<eventId> is the
// same page, which the pages use for their own links.
package web
