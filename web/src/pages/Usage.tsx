// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Usage() {
  return <PageHeader title="Usage" />;
}
