/* Skip logic on the survey page (progressive enhancement): a fieldset with data-relevant
   shows only while its condition holds. The condition is the tree the server parsed
   (services/collect/relevance.py), evaluated as there: an unanswered or hidden question
   is empty; = and != compare text, or numbers when the value is a number; >=, <=, >, <
   compare numbers; selected(q, x) looks among the chosen options. A hidden question is
   disabled, so nothing of it is sent; the server ignores it anyway. */
(function () {
  "use strict";
  var form = document.querySelector("form fieldset[data-relevant]");
  form = form && form.form ? form.form : form && form.closest("form");
  if (!form) { return; }
  var hidden = {};
  function values(key) {
    if (hidden[key]) { return []; }
    var out = [];
    form.querySelectorAll("[name='q_" + key + "']").forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") {
        out.push(el.value.trim());
      }
    });
    return out;
  }
  /* a number with decimals may be typed with the Vietnamese comma: 3,5 is 3.5 */
  function num(v) { return v.trim() === "" ? NaN : Number(v.trim().replace(",", ".")); }
  function test(n) {
    if (n[0] === "or") { return test(n[1]) || test(n[2]); }
    if (n[0] === "and") { return test(n[1]) && test(n[2]); }
    if (n[0] === "selected") { return values(n[1]).indexOf(n[2]) >= 0; }
    var op = n[1], given = values(n[2]).join(" "), lit = n[3];
    if (typeof lit === "string" && (op === "=" || op === "!=")) {
      return op === "=" ? given === lit : given !== lit;
    }
    var a = num(given), b = Number(lit);
    switch (op) {
      case "=": return a === b;
      case "!=": return a !== b;
      case ">=": return a >= b;
      case "<=": return a <= b;
      case ">": return a > b;
      default: return a < b;
    }
  }
  var sets = form.querySelectorAll("fieldset[id^='q-']");
  function update() {
    hidden = {};
    sets.forEach(function (fs) {
      var rule = fs.getAttribute("data-relevant");
      var show = !rule || test(JSON.parse(rule));
      fs.hidden = !show;
      fs.disabled = !show;
      if (!show) { hidden[fs.id.slice(2)] = true; }
    });
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
