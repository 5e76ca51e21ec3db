/** Says whether a section's values are encrypted, so people know what the list and operators can see. */
export function Protection({ encrypted }: { readonly encrypted: boolean }) {
  return encrypted ? (
    <span className="protection protection-encrypted">
      <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
        <path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2h.5a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h.5Zm1.5 0h4V5a2 2 0 0 0-4 0v2Z" />
      </svg>
      Encrypted
    </span>
  ) : (
    <span className="protection">Not encrypted: shown in your list</span>
  );
}
