// The portal's only script: the language switcher submits itself when a language is chosen (the
// Content-Security-Policy allows no inline handlers; without scripts its button does it).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
