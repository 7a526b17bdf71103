// Collapsible tiers of a trace picture: a button per tier hides or shows its boxes and arrows.
export function bindTiers(root) {
  for (const button of root.querySelectorAll("button[data-tier]")) {
    if (button.dataset.bound) continue;
    button.dataset.bound = "1";
    button.addEventListener("click", () => {
      const tier = button.dataset.tier;
      const collapsed = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", collapsed ? "true" : "false");
      const scope = button.closest("section") || root;
      for (const el of scope.querySelectorAll(`[data-tier-of="${tier}"]`)) {
        el.classList.toggle("collapsed", collapsed);
      }
    });
  }
}

bindTiers(document);
