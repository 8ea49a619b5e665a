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
