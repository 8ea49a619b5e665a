/* The live indicator: the age of the last change, or "reconnecting" when the pulses stop.
   The server pushes a pulse every second with the seconds since the data last changed;
   nothing here asks the server for anything. */
(function () {
    var STALE_MS = 3500;
    var state = { beat: 0, link: "down", since: 0 };
    window.gwLive = {
        pulse: function (p) {
            if (!p) { return; }
            state.beat = Date.now();
            state.link = p.link;
            state.since = p.since_change || 0;
            if (p.numbers) { write(JSON.parse(p.numbers)); }  /* one JSON text, see live_bridge.py */
            trimHistory();
            render();
        },
        state: state
    };
    /* The tiles and the funnel: each element gets its text, width and class, when changed. */
    function write(numbers) {
        for (var id in numbers) {
            var el = document.getElementById(id);
            if (!el) { continue; }
            var n = numbers[id];
            if (n.t !== undefined && el.textContent !== n.t) { el.textContent = n.t; }
            if (n.w !== undefined && el.style.width !== n.w) { el.style.width = n.w; }
            if (n.c !== undefined && el.className !== n.c) { el.className = n.c; }
        }
    }
    /* Dash keeps every change of a callback input in its undo history (history.past), and
       the pulse is one: ten a second, kept for ever, on a screen left open for days. Nothing
       on the wall undoes, so only the last few are kept. */
    var HISTORY_KEPT = 20;
    function trimHistory() {
        var stores = window.dash_stores || [];
        for (var i = 0; i < stores.length; i++) {
            var past = stores[i].getState().history.past;
            if (past.length > HISTORY_KEPT) { past.splice(0, past.length - HISTORY_KEPT); }
        }
    }
    function render() {
        var el = document.getElementById("wall-live");
        if (!el) { return; }
        var now = Date.now();
        var stale = state.link !== "live" || now - state.beat > STALE_MS;
        el.classList.toggle("is-stale", stale);
        var age = el.querySelector(".gw-age");
        if (age && state.beat) {
            var text = String(Math.floor(state.since + (now - state.beat) / 1000));
            if (age.textContent !== text) { age.textContent = text; }  /* no needless repaint */
        }
    }
    setInterval(render, 500);
})();
