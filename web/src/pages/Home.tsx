// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Home() {
  return <PageHeader title="Home" />;
}
