// The "Copy" button beside a share link: copies it, says so, and selects it when copying is not allowed.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const said = document.querySelector("[data-copied]");
  const done = () => { if (said) said.hidden = false; };
  field.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, () => { document.execCommand("copy") && done(); });
  } else if (document.execCommand("copy")) {
    done();
  }
});
