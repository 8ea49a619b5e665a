// The citizen pages' only script: a copy button for the tracking link and a print button for
// the QR posters. Both are hidden until this runs; the pages work without it.
(function () {
  var copy = document.getElementById("copy-link");
  if (copy) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var text = copy.getAttribute("data-copy");
      var done = function () { copy.textContent = copy.getAttribute("data-done"); };
      var fallback = function () {
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        try { if (document.execCommand("copy")) done(); } finally { document.body.removeChild(area); }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  }
  var print = document.getElementById("print-posters");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
