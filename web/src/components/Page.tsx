import { type ReactNode, useEffect, useRef } from "react";
import { useLocation } from "../app/router.tsx";

interface PageProps {
  /** The page's name: the `<h1>` and the document title. */
  readonly title: string;
  /** A line under the title. */
  readonly intro?: ReactNode;
  /** Buttons or links beside the title. */
  readonly actions?: ReactNode;
  /** A link back, above the title. */
  readonly back?: ReactNode;
  readonly children: ReactNode;
}

/**
 * One page of the app. After each navigation it names the document and moves focus to its heading,
 * so keyboard and screen-reader users start reading the new page at its top.
 */
export function Page({ title, intro, actions, back, children }: PageProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { key } = useLocation();
  useEffect(() => {
    document.title = `${title} · Veil`;
  }, [title]);
  useEffect(() => {
    heading.current?.focus({ preventScroll: false });
  }, [key]);
  return (
    <div className="page">
      {back ? <div className="page-back">{back}</div> : null}
      <div className="page-head">
        <div className="page-head-text">
          <h1 ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {intro ? <p className="page-intro">{intro}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </div>
  );
}
