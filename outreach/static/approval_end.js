// Progressive enhancement of the "end the service" page: choosing 死亡 (deceased) unticks the notice,
// choosing another reason ticks it again unless the librarian has set it themselves.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var reason = document.getElementById("reason");
    var send = document.getElementById("send_letter");
    if (!reason || !send) { return; }
    var touched = false;
    send.addEventListener("change", function () { touched = true; });
    function follow() {
      if (reason.value === "deceased") { send.checked = false; }
      else if (!touched) { send.checked = true; }
    }
    reason.addEventListener("change", follow);
  });
})();
