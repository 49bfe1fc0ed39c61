// 组卷: the paper's total follows the marks as they are typed (the server counts it again on save).
(function () {
  "use strict";
  var table = document.getElementById("paper-table");
  var total = document.getElementById("paper-total");
  if (!table || !total) return;
  function update() {
    var sum = 0;
    table.querySelectorAll("input[type=number]").forEach(function (input) {
      var value = parseInt(input.value, 10);
      if (value > 0) sum += value;
    });
    total.textContent = String(sum);
  }
  table.addEventListener("input", update);
})();
