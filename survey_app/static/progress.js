/* The survey's progress bar (progressive enhancement): a <progress> at the top of the form,
   labelled "Đã trả lời 3/19 câu bắt buộc", counting the required questions answered, updated
   as the citizen answers. A question hidden by skip logic (relevant.js disables it) does not
   count. Without JavaScript the section headings say where one is ("Câu 1–4/20"). The
   label's words come from the form's data-progress, with {d} and {t} for the numbers. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form || !form.dataset.progress) { return; }
  var box = document.createElement("div"), label = document.createElement("label"),
    bar = document.createElement("progress");
  box.className = "progress";
  /* its looks here, not in site.css: no bytes for a bar a page without JavaScript never shows
     (CSSOM, which the Content-Security-Policy allows; a style attribute it would refuse) */
  box.style.cssText = "position:sticky;top:0;z-index:1;display:flex;align-items:center;gap:.5rem;" +
    "padding:.15rem 0;background:#f6f7f9;font-size:.75rem;color:#57606a";
  bar.style.flex = "1";
  bar.id = "survey-progress";
  label.htmlFor = bar.id;
  box.appendChild(label);
  box.appendChild(bar);
  form.insertBefore(box, form.firstChild);
  function answered(fs) {
    var fields = fs.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i += 1) {
      var el = fields[i];
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") { return true; }
    }
    return false;
  }
  function update() {
    var done = 0, total = 0;
    form.querySelectorAll("fieldset[id^='q-']").forEach(function (fs) {
      if (fs.disabled || !fs.querySelector("[required]")) { return; }
      total += 1;
      if (answered(fs)) { done += 1; }
    });
    bar.max = total || 1;
    bar.value = done;
    label.textContent = form.dataset.progress.replace("{d}", done).replace("{t}", total);
  }
  /* after relevant.js (loaded before this file), so a question it just hid is not counted */
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
