/// <reference lib="dom" />
/**
 * Files of a folder the user picked (`<input webkitdirectory>`) or dropped (a directory entry of the drop), in
 * memory, for the DICOM reader: hidden files (`.DS_Store` …) are left out, subfolders are read too.
 *
 * @module
 */

/** One file's name and bytes. */
export interface PickedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The folder's name of a picked file list (its first path part), else `fallback`. */
export function folderName(files: readonly File[], fallback = "dicom"): string {
  const path = (files[0] as File & { webkitRelativePath?: string })?.webkitRelativePath ?? "";
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : fallback;
}

/** The bytes of every non-hidden file, named by its path inside the folder where known. */
export async function readPicked(files: readonly File[]): Promise<PickedFile[]> {
  const shown = files.filter((f) => !f.name.startsWith("."));
  return await Promise.all(shown.map(async (f) => ({
    name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name,
    bytes: new Uint8Array(await f.arrayBuffer()),
  })));
}

async function entryFiles(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [new File([file], entry.fullPath.replace(/^\//, ""))];
  }
  if (!entry.isDirectory) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const all: File[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    for (const e of batch) if (!e.name.startsWith(".")) all.push(...await entryFiles(e));
  }
}

/** A drop's folder (its files and name), or undefined when no folder was dropped. */
export async function droppedFolder(
  items: DataTransferItemList | undefined,
): Promise<{ name: string; files: File[] } | undefined> {
  const entries = [...(items ?? [])].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const folder = entries.find((e) => e.isDirectory);
  if (!folder) return undefined;
  return { name: folder.name, files: await entryFiles(folder) };
}
