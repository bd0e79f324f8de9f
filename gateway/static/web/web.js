// Small behaviours of the web interface; the pages work without them, except the automatic
// SAML form post, which then shows a button. Loaded as a file: CSP forbids inline scripts.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var auto = document.querySelector("form[data-autosubmit]");
    if (auto) {
      auto.submit();
    }
    var follow = document.querySelector("a[data-autofollow]");
    if (follow) {
      window.location.assign(follow.href);
    }
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  });
})();
