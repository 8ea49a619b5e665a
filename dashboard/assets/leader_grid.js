/* The stuck-case table's case numbers are real links: a middle click, a right click or a plain
   click opens the case in a new tab, so the leader keeps the table and its filters. */
(function () {
    var fns = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
    fns.CaseLink = function (props) {
        if (!props.data || props.data.id === undefined || !props.value) {
            return props.value || null;
        }
        return React.createElement(
            "a",
            {
                href: "/leader/case/" + props.data.id + window.location.search,
                target: "_blank",
                rel: "noopener",
                className: "gw-case-link",
            },
            props.value
        );
    };
})();

/* dcc's date picker labels its clear button "Clear Dates" in English whatever the page's
   language: give it the page's own words (a hidden span the filter bar renders). */
(function () {
    function relabel() {
        var label = document.getElementById("gw-clear-dates-label");
        if (!label) { return; }
        var buttons = document.querySelectorAll(".dash-datepicker-clear");
        for (var i = 0; i < buttons.length; i++) {
            if (buttons[i].getAttribute("aria-label") !== label.textContent) {
                buttons[i].setAttribute("aria-label", label.textContent);
                buttons[i].setAttribute("title", label.textContent);
            }
        }
    }
    new MutationObserver(relabel).observe(document.documentElement, {
        childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label"],
    });
})();
