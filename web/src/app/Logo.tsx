/** The Veil mark: a shield with a fold. Decorative; the name is always written beside it. */
export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
      <path
        d="M16 2.5 4.5 7v8.2c0 7 4.9 12.4 11.5 14.3 6.6-1.9 11.5-7.3 11.5-14.3V7L16 2.5Z"
        fill="currentColor"
      />
      <path d="M16 8.5v15.8c-4-1.5-6.6-4.9-6.6-9.2V11L16 8.5Z" fill="#fff" opacity=".9" />
    </svg>
  );
}
