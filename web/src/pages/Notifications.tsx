// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Notifications() {
  return <PageHeader title="Notifications" />;
}
