/* The hall wall's window cells, hall figures, summary figures and clock, written in place from
   the data a frame carries (callbacks/halls.py): at 240 halls × 10 windows an event a second
   per window, redrawing cards (or any component's children in a page of thousands) kept the
   browser seconds behind; a cell's class and text cost nothing. The server sends only what
   changed; a card redrawn whole brings its cells with it. */
(function () {
    function set(id, cls, text, title) {
        var el = document.getElementById(id);
        if (!el) { return; }
        if (cls !== null && el.className !== cls) { el.className = cls; }
        if (el.textContent !== text) { el.textContent = text; }
        if (title !== null && el.title !== title) { el.title = title; }
    }
    window.gwHalls = {
        write: function (data) {
            if (!data) { return; }
            var cells = data.cells || {}, halls = data.halls || {}, sums = data.summary || {}, k, v;
            if (data.clock) { set("halls-clock", null, data.clock, null); }
            for (k in sums) { set(k, null, sums[k], null); }
            for (k in cells) {
                v = cells[k];
                set(k, v[0], v[1], v[2]);
            }
            for (k in halls) {
                v = halls[k];  /* [card class, queue, wait, alerts] */
                var card = document.getElementById("hall-" + k);
                if (card && card.className !== v[0]) { card.className = v[0]; }
                set("hq-" + k, null, v[1], null);
                set("hw-" + k, null, v[2], null);
                set("ha-" + k, null, v[3], null);
            }
        }
    };
})();
