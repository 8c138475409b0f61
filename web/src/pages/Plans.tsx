// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Plans() {
  return <PageHeader title="Plans" />;
}
