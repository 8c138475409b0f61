import { Link } from "react-router-dom";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-lg p-8">
      <h1 className="text-2xl font-bold">Page not found</h1>
      <p className="mt-2">
        There is no page at this address. <Link to="/">Go to VoxFlow's home page</Link>.
      </p>
    </main>
  );
}
