// PLACEHOLDER: being written.
import { PageHeader } from "../components/ui";

export default function Keys() {
  return <PageHeader title="Keys" />;
}
