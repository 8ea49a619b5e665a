/* The live indicator: the age of the last change, or "reconnecting" when the pulses stop.
   The server pushes a pulse at least every second; nothing here asks the server for anything. */
(function () {
    var STALE_MS = 3500;
    var state = { beat: 0, link: "down", changes: -1, changedAt: 0 };
    window.gwLive = {
        pulse: function (p) {
            if (!p) { return; }
            var now = Date.now();
            state.beat = now;
            state.link = p.link;
            if (p.changes !== state.changes) { state.changes = p.changes; state.changedAt = now; }
            render();
        },
        state: state
    };
    function render() {
        var el = document.getElementById("wall-live");
        if (!el) { return; }
        var now = Date.now();
        var stale = state.link !== "live" || now - state.beat > STALE_MS;
        el.classList.toggle("is-stale", stale);
        var age = el.querySelector(".gw-age");
        if (age && state.changedAt) { age.textContent = String(Math.floor((now - state.changedAt) / 1000)); }
    }
    setInterval(render, 500);
})();
