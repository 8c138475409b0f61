// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function CallDetail() {
  return <PageHeader title="CallDetail" />;
}
