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
        map: drawMap,
        paint: paintMap,
        fitTicker: fitTicker,
        state: state,
        beeps: 0
    };
    /* The map arrives as an image (one prop, redrawn at most once a second); it is drawn
       inline beside it so that each area is a link (a new tab) with its tooltip. The SVG is
       made on the server from the city's own data, its texts escaped. */
    function drawMap(src) {
        var box = document.getElementById("wall-map-live");
        if (!box || !src) { return; }
        var comma = src.indexOf(",");
        if (comma < 0) { return; }
        var bytes = Uint8Array.from(atob(src.slice(comma + 1)), function (c) {
            return c.charCodeAt(0);
        });
        box.innerHTML = new TextDecoder().decode(bytes);
        box.parentNode.classList.add("is-inline");
    }
    /* Between whole maps, only the areas that changed arrive: [code, fill, tooltip] each,
       painted into the map drawn above. Until a map is drawn there is nothing to paint: a
       screen starts from the whole map. */
    function paintMap(data) {
        var box = document.getElementById("wall-map-live");
        if (!box || !data || !data.areas) { return; }
        data.areas.forEach(function (a) {
            var path = box.querySelector('path[data-code="' + CSS.escape(a[0]) + '"]');
            if (!path) { return; }
            path.setAttribute("fill", a[1]);
            var title = path.querySelector("title");
            if (title) { title.textContent = a[2]; }
        });
    }
    /* Whole lines only: a line the ticker's box cuts is hidden, not shown in half. Run when
       lines change (before the browser paints: a MutationObserver's callback) and on resize. */
    function fitTicker() {
        var ul = document.getElementById("wall-ticker");
        if (!ul) { return; }
        var bottom = ul.getBoundingClientRect().bottom + 0.5;
        var lines = ul.children;
        var full = false;
        for (var i = 0; i < lines.length; i++) {
            lines[i].classList.remove("is-cut");
        }
        for (var j = 0; j < lines.length; j++) {
            if (full || lines[j].getBoundingClientRect().bottom > bottom) {
                full = true;
                lines[j].classList.add("is-cut");
            }
        }
    }
    /* Urgent or major intake and each new overdue line flash (CSS); with the sound on, a
       short tone too. The sound is this screen's own choice, off unless switched on here. */
    var SOUND_KEY = "gw-wall-sound";
    var audio = null;
    function soundOn() {
        try { return window.localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
    }
    function beep() {
        window.gwLive.beeps += 1;
        try {
            audio = audio || new (window.AudioContext || window.webkitAudioContext)();
            var osc = audio.createOscillator(), gain = audio.createGain();
            osc.frequency.value = 880;
            gain.gain.value = 0.15;
            osc.connect(gain);
            gain.connect(audio.destination);
            osc.start();
            osc.stop(audio.currentTime + 0.35);
        } catch (e) { /* no audio device: the flash is enough */ }
    }
    var watched = null;
    function watchTicker() {
        var ul = document.getElementById("wall-ticker");
        if (!ul || ul === watched) { return; }
        watched = ul;
        var seen = ul.children.length > 0;  /* the first lines are history, not news */
        new MutationObserver(function (changes) {
            fitTicker();
            var fresh = false;
            changes.forEach(function (c) {
                c.addedNodes.forEach(function (n) {
                    if (n.classList && n.classList.contains("is-flash")) { fresh = true; }
                });
            });
            if (fresh && seen && soundOn()) { beep(); }
            seen = true;
        }).observe(ul, { childList: true });
        fitTicker();
    }
    function syncSound() {
        var b = document.getElementById("wall-sound");
        if (!b) { return; }
        var on = soundOn();
        b.classList.toggle("is-on", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    document.addEventListener("click", function (ev) {
        var t = ev.target.closest ? ev.target.closest("#wall-sound, #wall-fullscreen") : null;
        if (!t) { return; }
        if (t.id === "wall-sound") {
            try { window.localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on"); } catch (e) {}
            if (soundOn()) {
                audio = audio || new (window.AudioContext || window.webkitAudioContext)();
                if (audio.resume) { audio.resume(); }
            }
            syncSound();
        } else if (document.fullscreenElement) {
            document.exitFullscreen();
        } else if (document.documentElement.requestFullscreen) {
            document.documentElement.requestFullscreen();
        }
    });
    window.addEventListener("resize", fitTicker);
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
        watchTicker();
        syncSound();
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
