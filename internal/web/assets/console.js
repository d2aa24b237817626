// orderhub console: the little the pages need from script. Everything
// works without it; with it, a form marked data-confirm asks first.
"use strict";
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});

// orderhub.post sends a state-changing fetch with the page's CSRF token,
// for scripts that act without a form.
window.orderhub = {
  post: function (url, body) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": meta ? meta.content : "", "Content-Type": "application/x-www-form-urlencoded" },
      body: body || "",
      credentials: "same-origin",
    });
  },
};
