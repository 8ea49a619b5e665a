/* The leader's screens use Bootstrap; the wall does not. Its stylesheet (served by the web
   process from the installed package) is linked on the leader's pages only, so the wall's
   look stays exactly its own. */
(function () {
    if (window.location.pathname.indexOf("/leader") !== 0) { return; }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/vendor/bootstrap.min.css";
    document.head.insertBefore(link, document.head.firstChild);
    document.documentElement.classList.add("gw-leader-doc");
})();
