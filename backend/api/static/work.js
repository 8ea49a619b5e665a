// The patrol form's location button: the browser's position into two hidden fields.
(function () {
  var btn = document.getElementById("locate");
  if (!btn) return;
  var where = document.getElementById("where");
  btn.addEventListener("click", function () {
    if (!navigator.geolocation) { where.textContent = btn.dataset.fail; return; }
    where.textContent = btn.dataset.busy;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude.toFixed(6), lon = pos.coords.longitude.toFixed(6);
      document.getElementById("lat").value = lat;
      document.getElementById("lon").value = lon;
      where.textContent = btn.dataset.done + " " + lat + ", " + lon;
    }, function () { where.textContent = btn.dataset.fail; }, { enableHighAccuracy: true, timeout: 15000 });
  });
})();
