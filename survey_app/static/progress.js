/* The progress bar of a survey form (progressive enhancement; without JavaScript the section
   headings count, "Câu 1–4/20"): a <progress> labelled from the form's data-progress ({d} of
   {t}), counting the required questions answered that skip logic (relevant.js, loaded first)
   has not disabled. Styled here, through the CSSOM the CSP allows, so site.css carries no
   bytes for it. */
(function () {
  var f = document.getElementById("survey-form"), words = f && f.dataset.progress;
  if (!words) { return; }
  var box = document.createElement("div"), label = document.createElement("label"),
    bar = document.createElement("progress");
  box.className = "progress";
  box.style.cssText = "position:sticky;top:0;z-index:1;display:flex;align-items:center;gap:.5rem;" +
    "padding:.15rem 0;background:#f6f7f9;font-size:.75rem;color:#57606a";
  bar.style.flex = "1";
  bar.id = label.htmlFor = "survey-progress";
  box.append(label, bar);
  f.prepend(box);
  function update() {
    var done = 0, total = 0;
    f.querySelectorAll("fieldset[id^='q-']").forEach(function (fs) {
      if (fs.disabled || !fs.querySelector("[required]")) { return; }
      total += 1;
      if ([].some.call(fs.querySelectorAll("input,select,textarea"), function (el) {
        return /radio|checkbox/.test(el.type) ? el.checked : el.value.trim() !== "";
      })) { done += 1; }
    });
    bar.max = total || 1;
    bar.value = done;
    label.textContent = words.replace("{d}", done).replace("{t}", total);
  }
  f.addEventListener("change", update);
  f.addEventListener("input", update);
  update();
}());
