// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Calls() {
  return <PageHeader title="Calls" />;
}
