// Every chart can be read as a table too (for screen readers, and for exact figures).
import { useState, type ReactNode } from "react";
import { Button, DataTable, type Column } from "./ui";

export type { Column };

export function ChartOrTable<Row>({
  title,
  chart,
  rows,
  columns,
  rowKey,
}: {
  title: string;
  chart: ReactNode;
  rows: Row[];
  columns: Column<Row>[];
  rowKey: (row: Row) => string;
}) {
  const [asTable, setAsTable] = useState(false);
  return (
    <div>
      <div className="mb-2 flex items-center justify-between gap-2">
        <h3 className="text-sm font-semibold">{title}</h3>
        <Button variant="ghost" aria-pressed={asTable} onClick={() => setAsTable(!asTable)}>
          {asTable ? `View ${title} as chart` : `View ${title} as table`}
        </Button>
      </div>
      {asTable ? (
        <DataTable caption={title} rows={rows} columns={columns} rowKey={rowKey} />
      ) : (
        <div role="img" aria-label={`${title} chart`} className="h-64 w-full">
          {chart}
        </div>
      )}
    </div>
  );
}
