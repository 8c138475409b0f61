// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function AgentEdit() {
  return <PageHeader title="AgentEdit" />;
}
