// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function AgentTest() {
  return <PageHeader title="AgentTest" />;
}
