import { Link } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { Page } from "../components/Page.tsx";

export function NotFound() {
  return (
    <Page title="Page not found" intro="This address does not lead anywhere in Veil.">
      <Link className="button button-primary" href={paths.list()}>
        Go to your records
      </Link>
    </Page>
  );
}
