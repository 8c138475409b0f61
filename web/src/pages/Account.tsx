// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Account() {
  return <PageHeader title="Account" />;
}
